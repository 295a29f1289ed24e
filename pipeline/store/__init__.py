"""InfluxDB side: turning messages into points, writing them, and querying them back."""
