#!/usr/bin/env python3
"""Reference ROC AUC values for tests/train/test_metrics.cpp, from scikit-learn's roc_auc_score.

usage: metrics_sklearn.py DIR COUNT
Reads DIR/scores_<i>.npy and DIR/labels_<i>.npy (f8 [N]) for i in 0..COUNT-1 and writes DIR/sklearn_auc.txt,
one value per line (repr, so a double reads back exactly). Exits 1 with a message on stderr on failure."""
import os
import sys

import numpy as np
from sklearn.metrics import roc_auc_score


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    directory, count = sys.argv[1], int(sys.argv[2])
    values = []
    for i in range(count):
        scores = np.load(os.path.join(directory, f"scores_{i}.npy"))
        labels = np.load(os.path.join(directory, f"labels_{i}.npy"))
        values.append(repr(float(roc_auc_score(labels, scores))))
    with open(os.path.join(directory, "sklearn_auc.txt"), "w") as f:
        f.write("\n".join(values) + "\n")


if __name__ == "__main__":
    main()
