"""N-gram estimation on Apache Spark (the ``[spark]`` extra): ``lmlab ngram --engine spark``.

:mod:`.session` starts (or checks before starting) a SparkSession; :mod:`.ngram` is the job.
Only this package imports ``pyspark`` (an import-linter contract keeps the rest of lmlab free of
it), and only when the Spark engine is asked for.
"""
