"""Theorem spec modules, one per theorem or variant.

``REGISTRY`` maps a theorem's name to the module that defines ``THEOREM``; the CLI
and the tests load specs through :func:`verifier.loader.load_spec`.
"""
REGISTRY = {
    "theorem1": "theorems.theorem1_vae_fixed_sigma",
    "theorem4": "theorems.theorem4_vae_learnable_sigma",
}
