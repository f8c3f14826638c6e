"""The dbt project as Dagster assets: staging before linkage, journey and marts after it."""
