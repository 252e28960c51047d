"""Rebuild publishers' wire formats from real recorded values saved in other shapes.

The recorded payloads in ``shared/data/real`` were often saved after a client library reshaped
them (R data frames, pandas). The builders here put those *real values* back into the publisher's
response format (the envelope is reconstructed, the numbers are not touched), so parsers and
loopback-server tests run on the wire format.
"""
