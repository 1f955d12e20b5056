"""Validation: the published figures the model is checked against, calibration of the
parameters no source gives, and the history report (docs/validation.md).
"""
