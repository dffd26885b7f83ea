"""The networks: the generators of the registry (RBPN, and DBPN, its single-image branch alone), the SRGAN
discriminator, and state-dict conversion. `build_generator(model_cfg)` builds whichever `model_cfg.name` names."""

from iseebetter_lib.models.convert import convert_original_state_dict
from iseebetter_lib.models.dbpn import DBPN
from iseebetter_lib.models.discriminator import Discriminator
from iseebetter_lib.models.rbpn import RBPN
from iseebetter_lib.models.registry import build_generator, generator_class

__all__ = ["DBPN", "RBPN", "Discriminator", "build_generator", "convert_original_state_dict", "generator_class"]
