"""One epoch of MNIST MLP training: chainrule (eager, captured) vs PyTorch vs plain NumPy.

The implementation lives in ``chainrule.bench`` (so ``chainrule bench`` can run the quick
version from an installed package); see its docstring for the configurations.

Run:  python benchmarks/mlp_epoch.py [--quick] [--configs abc] [--repeats 5]
"""

from chainrule.bench import main

if __name__ == "__main__":
    main()
