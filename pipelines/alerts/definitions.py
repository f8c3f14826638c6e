import dagster as dg

from pipelines.alerts.resources import AlertsResource
from pipelines.alerts.sensors import alert_sensors

defs = dg.Definitions(sensors=alert_sensors, resources={"alerts": AlertsResource()})
