"""Real data sets, offline after one fetch: MNIST (see ``docs/mnist.md``).

Data live in a cache directory: the one named by the environment variable
``RIDGETHEORY_DATA``, else a per-user cache (``$XDG_CACHE_HOME/ridgetheory`` or
``~/.cache/ridgetheory``).
"""

from ._cache import DatasetUnavailable, data_dir
from .mnist import (
    MNIST_TEST_COUNTS,
    MNIST_TRAIN_COUNTS,
    fetch_mnist,
    mnist,
    mnist_path,
)

__all__ = [
    "DatasetUnavailable",
    "data_dir",
    "mnist",
    "fetch_mnist",
    "mnist_path",
    "MNIST_TRAIN_COUNTS",
    "MNIST_TEST_COUNTS",
]
