import os

# Tests never download: a test that needs MNIST uses the copy `make data` prepared.
os.environ.setdefault("COURSE_DEVICE", "auto")

# The suite runs notebooks two at a time (pytest -n 2) on 2 cores: one BLAS thread per kernel,
# or the OpenMP threads of parallel kernels stall each other.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
