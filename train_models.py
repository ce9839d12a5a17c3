"""Train the race models (the seed's entry point); the same as ``f1analyzer train``.

    python train_models.py --quick --init-vectordb        # small subset, then build the index
    python train_models.py --start-year 2015 --end-year 2024

Lap data comes from the store; if the store lacks a season, it is ingested from F1_DATA_DIR
(FastF1-format files) when that is set. See ``f1analyzer train --help``.
"""

import sys

from f1analyzer.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
