"""The notifications module. Other modules import only its ``api``."""
