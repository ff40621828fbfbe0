"""Training data: pairing, normalisation, patches, augmentation, degradation and simulation.

Modules: ``normalize`` (NormConfig/NormParams), ``pairs`` (find_pairs), ``split`` (by image),
``loading`` (files -> normalised 2-D items), ``patches`` and ``batches`` (PatchBatcher, a pure
function of (seed, step)), ``augment`` (8 dihedral transforms), ``degrade`` (PSF, area
downsampling, Poisson-Gaussian noise), ``structures``/``simulate`` (BioSR-like simulated pairs),
``biosr`` (widefield from 9 raw SIM frames), ``datasets`` and ``degrade_folder`` (the simulate and
degrade folder writers),
``masks`` and ``color``. User documentation: docs/data.md.
"""
