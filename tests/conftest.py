import os

# Keep the tests' own torch work on one thread: these machines have 2 shared cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
