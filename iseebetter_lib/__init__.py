"""iSeeBetter, reproduced: RBPN generator + SRGAN discriminator, four-fold loss, as a library for a Jupyter book.

Layers, read top-down (each imports only the ones above it):

1. `pyflow` (separate package): our Cython coarse-to-fine optical flow.
2. `iseebetter_lib.errors`, `.config`, `.io`, `.device`: user errors, configuration objects and presets, atomic
   writes, the torch device rule.
3. `iseebetter_lib.flow`: the flow front (window flows, warping, colour wheel, backend choice).
4. `iseebetter_lib.data`: readers, exact degradations, training samples, the flow cache, the embedded dataset.
5. `iseebetter_lib.models`, `.losses`: the networks and the four-fold loss.
6. `iseebetter_lib.inference`, `.training`, `.evaluation`: what users and notebooks call (generator files:
   `iseebetter_lib.models.weights`).
7. `iseebetter_lib.book`, `.cli`: the book runner and the `iseebetter` command.
"""

__version__ = "0.1.0"
