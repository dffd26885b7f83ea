"""The networks: RBPN generator (with its DBPN-S branch) and the SRGAN discriminator, plus state-dict conversion."""

from iseebetter_lib.models.convert import convert_original_state_dict
from iseebetter_lib.models.discriminator import Discriminator
from iseebetter_lib.models.rbpn import RBPN, build_generator

__all__ = ["RBPN", "Discriminator", "build_generator", "convert_original_state_dict"]
