"""Smoothing methods: each turns :class:`NgramCounts` into :class:`BackoffTables`.

Every method computes, per order, a discounted estimate ``u`` of each seen n-gram and the mass
``gamma`` each context leaves for unseen words (Chen & Goodman's common form).  :mod:`.assemble`
then builds the interpolated or backoff model from them, once for all methods.
"""
