"""An emulation of the Python script dbt-snowflake runs as a stored procedure for a Python model.

dbt compiles a Python model into one script: the model file, then dbt-core's `py_script_postfix`
(dbt/include/global_project/macros/python_model/python.sql: `ref`, `source`, `config_dict`, `class config`,
`class this`, `class dbtObj`), then dbt-snowflake's `py_write_table`
(dbt/include/snowflake/macros/materializations/table.sql: `materialize(session, df, target_relation)` and
`main(session)`, the stored procedure's handler). `compile_model` renders the same text with the values dbt would
fill in, so the test runs the model exactly as that script does: `main(session)` builds `dbt = dbtObj(session.table)`,
calls `model(dbt, session)` and saves the returned DataFrame with `save_as_table(mode="overwrite")`.

As in dbt, `config_dict` holds only the config keys the model file reads literally with `dbt.config.get("key")`
(dbt's parser records them as `config_keys_used`); dbt-snowflake passes nothing else (no node, no column meta).
"""

from __future__ import annotations

import json
import re

_CONFIG_GET = re.compile(r"""dbt\.config\.get\(\s*["']([^"']+)["']""")

_POSTFIX = '''
def ref(*args, **kwargs):
    refs = {refs}
    key = '.'.join(args)
    version = kwargs.get("v") or kwargs.get("version")
    if version:
        key += f".v{{version}}"
    dbt_load_df_function = kwargs.get("dbt_load_df_function")
    return dbt_load_df_function(refs[key])


def source(*args, dbt_load_df_function):
    sources = {{}}
    key = '.'.join(args)
    return dbt_load_df_function(sources[key])

config_dict = {config_dict}
meta_dict = {{}}

class config:
    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def get(key, default=None):
        return config_dict.get(key, default)

    @staticmethod
    def meta_get(key, default=None):
        return meta_dict.get(key, default)

class this:
    """dbt.this() or dbt.this.identifier"""
    database = "{database}"
    schema = "{schema}"
    identifier = "{identifier}"
    def __repr__(self):
        return '{database}.{schema}.{identifier}'


class dbtObj:
    def __init__(self, load_df_function) -> None:
        self.source = lambda *args: source(*args, dbt_load_df_function=load_df_function)
        self.ref = lambda *args, **kwargs: ref(*args, **kwargs, dbt_load_df_function=load_df_function)
        self.config = config
        self.this = this()
        self.is_incremental = False

def materialize(session, df, target_relation):
    # make sure pandas exists
    import importlib.util
    package_name = 'pandas'
    if importlib.util.find_spec(package_name):
        import pandas
        if isinstance(df, pandas.core.frame.DataFrame):
          session.use_database(target_relation.database)
          session.use_schema(target_relation.schema)
          # session.write_pandas does not have overwrite function
          df = session.createDataFrame(df)
    df.write.mode("overwrite").save_as_table('{database}.{schema}.{identifier}', table_type='')

def main(session):
    dbt = dbtObj(session.table)
    df = model(dbt, session)
    materialize(session, df, dbt.this)
    return "OK"
'''


def compile_model(model_code: str, *, config: dict, refs: dict[str, str], database: str, schema: str,
                  identifier: str) -> str:
    """The stored procedure's script for `model_code`: `config` is the model's whole config (what `dbt.config(...)`
    and dbt_project.yml set); only the keys the code reads with `dbt.config.get` reach `config_dict`."""
    used = {key: config.get(key) for key in _CONFIG_GET.findall(model_code)}
    postfix = _POSTFIX.format(refs=json.dumps(refs), config_dict=repr(used), database=database, schema=schema,
                              identifier=identifier)
    return model_code + "\n" + postfix


def run_stored_procedure(script: str, session) -> str:
    """Run the script's handler `main(session)` as the stored procedure does."""
    namespace: dict = {"__name__": "dbt_model"}
    exec(compile(script, "<dbt-snowflake python model>", "exec"), namespace)   # noqa: S102 - our own test script
    return namespace["main"](session)
