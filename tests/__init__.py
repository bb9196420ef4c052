"""Tests of the handbook: the built site, its content, and its examples."""
