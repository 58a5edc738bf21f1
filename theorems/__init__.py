"""Theorem spec modules, one per theorem or variant.

``REGISTRY`` maps a theorem's name to the module that defines ``THEOREM``; the CLI
and the tests load specs through :func:`verifier.loader.load_spec`.

``LISTING`` is what ``verifier list`` prints -- each theorem's title, source and number of claims --
without importing the spec modules (which import sympy): a test checks every entry against the
loaded spec, so a change to a spec's title, source or claims fails it until the listing follows.
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

# name: (title, source, number of claims), as the loaded THEOREM has them
LISTING = {
    "appendix_c": ("Linear VAE with one learnable diagonal encoder variance per sample (N=3)",
                   "Appendix C, eqs. (8), (9); Theorem 4, Appendix D.2", 8),
    "theorem1": ("Linear VAE with unlearnable diagonal encoder variance",
                 "Theorem 1, Section 3, eq. (4); proof in Appendix D.1", 13),
    "theorem2": ("Linear conditional VAE with learnable diagonal encoder variance",
                 "Theorem 2, Section 4.1, eqs. (6), (7); proof in Appendix E", 17),
    "theorem3": ("Two-latent MHVAE, unlearnable isotropic Sigma1, learnable diagonal Sigma2",
                 "Theorem 3, Section 4.2; proof in App. F.1, eqs. (41)-(61); Remarks 1 and 4", 22),
    "theorem3_orders": ("Two-latent MHVAE (Theorem 3) in the other dimension orders of App. F.1",
                        "App. F.1, end of the proof of Theorem 3", 16),
    "theorem4": ("Linear VAE with learnable diagonal encoder variance",
                 "Theorem 4, Appendix D.2, eqs. (21), (30)", 10),
    "theorem5": ("Two-latent MHVAE, unlearnable isotropic Sigma1 and Sigma2",
                 "Theorem 5, App. F.2, eqs. (62)-(83); Remark 5, eq. (84)", 14),
}
