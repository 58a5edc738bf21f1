"""The data a theorem spec is made of.

A spec module in ``theorems/`` builds one frozen :class:`Theorem`: the model (the
matrix objective, written once in sympy, and how data become its matrices), the
per-index quantities and closed forms the theorem prints, how the claimed
optimum is assembled from them, and every printed claim as its own item.  A spec
says *what* is claimed, never how to check it: checking is ``verifier.pipeline``.
Everything here is validated on construction and then only read; a variant or
mutant is a new object made with :meth:`Theorem.replace_closed_form` and friends.

One module per part, every public name importable from here (``from verifier.spec import Model``):
``model`` (the objective and its variables), ``sources`` (per-index quantities, bases, the assembled
optimum, the reduction), ``claims`` (premises and claim kinds), ``theorem`` (the theorem and its
variants).
"""
from .claims import (CLAIM_KINDS, CONDITIONS, SPECTRA, AllDistinct, AllEqual, AlternativeOptimum, Claim,
                     ClosedFormSpectrum, ClosedFormValue, DataFormAgreement, ExpressionRank, ForAllIndices, GlobalMinimum, Implication,
                     IndexBound, MatrixRelation, MatrixRelationFamily, OnData, PartialRank, RankCount,
                     RelationAtPrecision, Restricted, ScaledMatrixRelation, VanishingCoordinates, ZeroLines)
from .model import FixedVector, Hyperparameter, Model, Variable, cholesky_variable, scalar_variable
from .sources import (BASES, INDEX_SOURCES, Constant, IdentityBasis, IndexWithin, LeftSingularVectors, Optimum,
                      RandomOrthogonalBasis, Reduction, RightSingularVectors, SingularValues, SortedVector,
                      SortingBasis, SpectrumReduction)
from .theorem import Theorem

__all__ = ["CLAIM_KINDS", "CONDITIONS", "SPECTRA", "AllDistinct", "AllEqual", "AlternativeOptimum", "Claim",
           "ClosedFormSpectrum", "ClosedFormValue", "DataFormAgreement", "ExpressionRank", "ForAllIndices", "GlobalMinimum",
           "Implication", "IndexBound", "MatrixRelation", "MatrixRelationFamily", "OnData", "PartialRank",
           "RankCount", "RelationAtPrecision", "Restricted", "ScaledMatrixRelation", "VanishingCoordinates",
           "ZeroLines", "FixedVector", "Hyperparameter", "Model", "Variable", "cholesky_variable", "scalar_variable", "BASES", "INDEX_SOURCES", "Constant",
           "IdentityBasis", "IndexWithin", "LeftSingularVectors", "Optimum", "RandomOrthogonalBasis", "Reduction",
           "RightSingularVectors", "SingularValues", "SortedVector", "SortingBasis", "SpectrumReduction", "Theorem"]
