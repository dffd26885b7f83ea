"""iSeeBetter, reproduced: RBPN generator + SRGAN discriminator, four-fold loss, as a library for a Jupyter book.

The modules are floors, each importing only from its own floor or those below: errors, io, paths, deprecation,
config, device, precision; then data and flow; models, losses, vgg; training, inference, evaluation; book and cli
(ARCHITECTURE.md has the table, `tests/test_architecture.py` keeps it true). Generator files:
`iseebetter_lib.models.checkpoints`.
"""

__version__ = "0.1.0"
