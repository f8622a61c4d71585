"""Is this CUDA machine ready for the paper's experiments? `make gpu-check`; the check itself lives in the package
(gamlib.experiments.gpu_check, also the GPU session's first job): see its docstring.

    python scripts/gpu_check.py [--steps 4] [--skip-tests]

Exit status: 0 all passed; 1 a test or a training failed; 2 no CUDA GPU is visible (nothing run).
"""
import sys

from gamlib.experiments.gpu_check import main

if __name__ == "__main__":
    sys.exit(main())
