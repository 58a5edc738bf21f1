"""Theorem spec modules, one per theorem or variant.

``REGISTRY`` maps a theorem's name to the module that defines ``THEOREM``; the CLI
and the tests load specs through :func:`verifier.loader.load_spec`.
"""
REGISTRY = {
    "theorem1": "theorems.theorem1_vae_fixed_sigma",
    "theorem4": "theorems.theorem4_vae_learnable_sigma",
    "theorem2": "theorems.theorem2_cvae_learnable_sigma",
    "theorem3": "theorems.theorem3_mhvae_fixed_sigma1",
    "theorem3_orders": "theorems.theorem3_dimension_orders",
    "theorem5": "theorems.theorem5_mhvae_fixed_isotropic",
    "appendix_c": "theorems.appendix_c_samplewise_variance",
}
