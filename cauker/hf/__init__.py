"""The ``datasets`` layer: the builder, loading, streaming, and arrays for encoders.

=============  ==============================================================
module         holds
=============  ==============================================================
``builder``    :class:`CauKer`, the ``datasets`` builder, and its config class
``loading``    ``cauker.load_dataset``: a named corpus as ``datasets`` objects
``streaming``  the examples iterable behind a streamed split (DDP, workers, resume)
``parts``      parts of a split (graphs ``offset + j * stride``) for ranks and workers
``arrays``     rows as ``(n, channels, length)`` arrays for encoders
``mantis``     ``cauker.as_mantis``: the layout ``MantisTrainer.pretrain`` reads, no copy
=============  ==============================================================

Built on the sampler (:mod:`cauker.sampler`). Importing this package does not
import ``datasets``; its modules do.
"""
