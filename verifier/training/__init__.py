"""Train the linear VAE, CVAE and MHVAE as users train VAEs, and compare with the closed forms.

``data`` loads and standardises real data, ``models`` holds the torch modules (reparameterised
sampling, one analytic KL per latent), ``train`` the minibatch Adam loop, ``predict`` the
closed-form predictions computed through the theorem specs from the same data's statistics,
``measures`` the collapse measures, ``experiments`` the three experiments and ``report`` the
report section.
"""
