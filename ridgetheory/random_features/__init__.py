"""Random-feature score model with closed-form training dynamics (theory.md section 6).

* :class:`RandomFeatureModel` -- fixed random features with a Fourier time embedding;
* :class:`RandomFeatureFit` -- the assembled quadratic loss, its gradient-flow solution
  ``W(tau)``, explicit gradient descent and the bias / optimization / residue split;
* :class:`RandomFeatureScore` -- the trained model at one ``tau`` (score-model protocol).
"""

from .fit import Decomposition, RandomFeatureFit, RandomFeatureScore
from .model import RandomFeatureModel

__all__ = ["RandomFeatureModel", "RandomFeatureFit", "RandomFeatureScore", "Decomposition"]
