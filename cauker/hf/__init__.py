"""The Hugging Face layer: the ``datasets`` builder, loading, streaming, and push to the Hub.

=============  ==============================================================
module         holds
=============  ==============================================================
``builder``    :class:`CauKer`, the ``datasets`` builder, and its config class
``loading``    ``cauker.load_dataset``: a named corpus as ``datasets`` objects
``stream``     the examples iterable behind a streamed split (DDP, workers, resume)
``hub``        ``cauker.push_to_hub``: export, upload, merge the card, tag
``mantis``     ``cauker.as_mantis``: the layout ``MantisTrainer.pretrain`` reads, no copy
=============  ==============================================================

Built on the sampler (:mod:`cauker.sampler`) and the files layer
(:mod:`cauker.files`: the Hub folder layout that a push uploads). Importing this
package imports neither ``datasets`` nor ``huggingface_hub``; its modules do.
"""
