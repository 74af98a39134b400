"""Engine adapters: each implements dpsynth_core.measurement.Engine by pushing queries down to a warehouse."""
