"""The billing module. Other modules import only its ``api``."""
