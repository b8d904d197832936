"""The project's one compiled module; everything else about the package is in setup.cfg.

``shared/walk.pyx`` (the walk over stored MessagePack arrays, ``shared.unpack``) is compiled by
Cython at install: ``make install`` runs ``pip install -e .``, which needs a C compiler and the
Python headers (README, "Quick start").
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("shared.walk", ["shared/walk.pyx"])])
