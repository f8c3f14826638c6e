"""Delivery months (``YYYY-MM``) are added as partitions when a delivery arrives."""

import dagster as dg

delivery_months = dg.DynamicPartitionsDefinition(name="delivery_month")
