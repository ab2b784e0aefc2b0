"""A small variational autoencoder (Kingma & Welling 2014) for flattened images: the generator of generative replay.

Pixels are modelled as Bernoulli probabilities in [0, 1]. The course's inputs are standardised (MNIST:
(pixel - 0.1307) / 0.3081), so the VAE is given the range [lo, hi] the inputs span and maps them to
[0, 1] on the way in and back on the way out: `sample` returns inputs in the classifier's own units.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .errors import check_float, check_int


class VAE(nn.Module):
    """Encoder input-hidden-(mu, log var), decoder latent-hidden-input (sigmoid): Bernoulli pixels, Gaussian prior."""

    def __init__(self, input_size: int, hidden: int = 128, latent: int = 32, lo: float = 0.0, hi: float = 1.0):
        super().__init__()
        check_int("input_size", input_size, 1)
        check_int("generator hidden", hidden, 1)
        self.latent = check_int("generator latent", latent, 1)
        check_float("hi - lo", hi - lo, 0.0, None, low_open=True)
        self.lo, self.hi = float(lo), float(hi)
        self.encoder = nn.Sequential(nn.Linear(input_size, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, input_size))

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs in the classifier's units -> pixel intensities in [0, 1]."""
        return ((x - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0)

    def from_unit(self, p: torch.Tensor) -> torch.Tensor:
        """Pixel intensities in [0, 1] -> inputs in the classifier's units."""
        return self.lo + p * (self.hi - self.lo)

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The negative ELBO per image, averaged over the batch: binary cross-entropy summed over pixels + KL."""
        target = self.to_unit(x.flatten(1))
        mu, logvar = self.encoder(target).chunk(2, dim=1)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + eps * torch.exp(0.5 * logvar)
        recon = F.binary_cross_entropy_with_logits(self.decoder(z), target, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (recon + kl) / len(x)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Inputs (the decoder's mean image, in the classifier's units) for latent codes z."""
        return self.from_unit(torch.sigmoid(self.decoder(z)))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`n` generated inputs: z from the prior N(0, I), decoded to the mean image."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent, generator=generator, device=device)
        return self.decode(z)
