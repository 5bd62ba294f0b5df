"""Training of the predictors; torch is imported only here and in nlp/inference."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# On shared CPUs (CI runners, a box running other jobs) OpenMP's default spin-wait made a 2-thread
# pool ~20x slower once another process held a core; passive waiting costs almost nothing.
# It only takes effect when this package is imported before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
