"""Entry point for ``spark-submit``: ``lmlab`` with the arguments given (docs/spark.md).

    spark-submit --master yarn --py-files lmlab.zip examples/spark_submit.py \
        ngram --engine spark --master yarn -o 5 --text hdfs:///c/train.txt --arpa hdfs:///m/lm.arpa
"""

import sys

from lmlab.cli.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
