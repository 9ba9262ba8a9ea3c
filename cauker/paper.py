"""The paper this project implements, as the builder and the dataset card cite it."""

URL = "https://arxiv.org/abs/2508.02879"

CITATION = """@article{xie2025cauker,
  title   = {CauKer: classification time series foundation models can be pretrained
             on synthetic data only},
  author  = {Xie, Shifeng and Feofanov, Vasilii and Alonso, Marius and Odonnat, Ambroise
             and Zhang, Jianfeng and Palpanas, Themis and Redko, Ievgen},
  journal = {arXiv preprint arXiv:2508.02879},
  year    = {2025}
}"""

DESCRIPTION = (
    "CauKer synthetic time series: each series is a node of a random structural causal "
    "model whose roots are Gaussian-process draws with random composite kernels and means "
    "(Xie et al., 2025)."
)
