"""The sampler: a config in, rows out. It knows nothing of ``datasets``, the Hub or the CLI.

=====================  ======================================================
module                 holds
=====================  ======================================================
``rows``               ``generate`` and ``iter_batches``: rows of a split, as Arrow
``schema``             the Arrow schema of the rows, and building record batches
``memory``             what a generating process needs in memory; the check of
                       this machine, where work starts
``scm``                one random structural causal model per graph: :class:`Sampler`,
                       and what each graph draws, in order
``draws``              drawing that schedule in a batch of graphs' numpy streams
``dag``                the random DAGs
``kernels``            kernel banks (tables of scikit-learn kernel specs)
``means``              the mean bank of the GP roots
``activations``        activation banks of the non-root nodes
``gp``                 exact draws of the GP roots
``toeplitz``           the Schur factorisation of Toeplitz covariances
``kernel_columns``     kernels evaluated on the grid, the same bits on every CPU
``linalg``             factors and sums in a fixed order of IEEE operations
``portable_math``      ``exp``, ``log``, ``sin``... the same bits on every CPU
``backend``            which loops a sampler's batches run: numpy's or numba's
``loops``              the four heaviest loops (Schur sweep, Khatri-Rao draw,
                       exponential means, propagation), in numpy
``compiled``           the same four loops compiled by numba (the same bits)
=====================  ======================================================

Data flows down this table: ``rows`` asks ``scm`` for graphs, ``scm`` draws
DAGs, banks and GP roots, and the numerics at the bottom make every bit the
same on every machine. Importing this package imports nothing; import the
module you need.
"""
