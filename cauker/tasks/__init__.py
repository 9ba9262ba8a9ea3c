"""Labelled classification tasks for in-context classifiers, drawn from the CauKer prior.

A layer above :mod:`cauker.sampler` (which stays "a config in, corpus rows
out") and below ``files/`` and ``hf/``: a :class:`~cauker.task_config.TaskConfig`
in, Arrow rows of tasks out.

==================  ===========================================================
module              holds
==================  ===========================================================
``task_rows``       ``generate_tasks``, ``iter_task_batches``, parts: the redraw loop
``task_schema``     the Arrow layout of a task row
``mechanisms``      what a class is: ``graph`` and ``shift``, their laws
``samples``         samples of classes: root noise, propagation
``augment``         the optional augmentations
``knn``             the 1-nearest-neighbour accuracy of a task
``seeding``         the task and class streams
``prior``           the one adapter to the sampler's pieces
``corpora``         corpus configs and task configs behind one set of functions
==================  ===========================================================

Importing this package imports nothing; import the module you need.
"""
