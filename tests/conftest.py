import os

# Tests never download: a test that needs MNIST uses the copy `make data` prepared.
os.environ.setdefault("COURSE_DEVICE", "auto")
