"""The files layer: a corpus written to files, for training scripts (the Hub's layout is
:mod:`cauker.hub`).

===================  ==========================================================
module               holds
===================  ==========================================================
``shard_plan``       the files of a split: contiguous row ranges sized for the Hub
``writers``          the one writer: Parquet, Arrow IPC and GluonTS files
``runners``          writing the missing files in this process or a process pool
``dask_runner``      writing them on a Dask cluster, one task per file
``corpus_folder``    ``cauker generate``: ``DIR/<split>/*.parquet|.arrow`` and ``cauker.json``
``preview``          a grid of sample series drawn to an image
``file_records``     each written file's SHA-256, recorded as it is written; verification
``folder_paths``     what may be written or deleted: inside the folder, never through a link
``atomic_files``     files that appear whole or not at all (local disk or fsspec)
``folder_lock``      calls that write into one local folder take turns
===================  ==========================================================

Built on the sampler (:mod:`cauker.sampler`): data flows from a config to a
plan of files, from the sampler's Arrow batches into each file. Importing this
package imports nothing; import the module you need.
"""
