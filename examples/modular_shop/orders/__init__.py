"""The orders module. Other modules import only its ``api``."""
