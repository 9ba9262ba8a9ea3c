"""The Hugging Face Hub: the layout of an export, its dataset card, and the push.

=============  ==============================================================
module         holds
=============  ==============================================================
``layout``     ``cauker.export``: ``data/<config>/``, ``images/``, ``README.md``
``card``       the dataset card (``README.md``): its YAML, text and merge
``push``       ``cauker.push_to_hub``: export, upload, merge the card, tag
=============  ==============================================================

Built on the files layer (:mod:`cauker.files`: the plan, the writer, the
runners). Importing this package imports neither ``datasets`` nor
``huggingface_hub``; its modules do.
"""
