"""lowcode_sql as a PySpark data source (pyspark >= 4.1, the Python Data Source API).

>>> from lowcode_sql.spark import LowcodeDataSource       # doctest: +SKIP
>>> spark.dataSource.register(LowcodeDataSource)          # doctest: +SKIP
>>> df = (spark.read.format("lowcode").option("config", "lowcode.toml")    # doctest: +SKIP
...       .option("table", "crm.projects").load())

See ``lowcode_sql.spark.source`` and the README's "Spark" section.
"""

from lowcode_sql.spark.source import LowcodeDataSource

__all__ = ["LowcodeDataSource"]
