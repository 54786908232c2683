"""weather: ``/weather [city]`` from a fake local data source, cached per half hour.

Shows a plugin config file (``plugins/weather.toml`` is generated with these comments on first
run, and editing it reloads this plugin), a cached tool (at most one lookup per city per time
bucket), and a declared bus event. No network: the "forecast" is derived from the city name
and the time bucket, so it is stable within a bucket.
"""

import hashlib
import time

import attrs

from qgactor.plugins import EventSpec, Manifest, Plugin, command, tool

__plugin__ = Manifest(
    version="1.0.0",
    description="Answers weather questions (fake local data, cached)",
    author="qgactor",
    dependencies={"help": ">=1.0"},
)

_SKIES = ["sunny", "cloudy", "light rain", "thunderstorms", "fog", "clear"]


class Weather(Plugin):
    """Answers weather questions."""

    events = [EventSpec("weather.looked_up", {"city": str, "sky": str},
                        "a real (uncached) lookup happened")]

    @attrs.define
    class Config:
        city: str = "Shenzhen"
        """Default city when none is given."""
        units: str = "C"
        """Temperature units: C or F."""
        greeting: str = ""
        """Optional text put before every answer."""

    @tool("forecast", bucket=1800)
    async def forecast(self, city: str) -> dict:
        """The forecast of a city (one lookup per city per half hour)."""
        bucket = int(time.time() // 1800)
        digest = hashlib.sha256(f"{city.lower()}:{bucket}".encode()).digest()
        sky = _SKIES[digest[0] % len(_SKIES)]
        celsius = 5 + digest[1] % 30
        await self.emit("weather.looked_up", city=city, sky=sky)
        return {"city": city, "sky": sky, "celsius": celsius}

    @command("weather")
    async def weather(self, msg):
        """`/weather [city]`: today's weather."""
        city = msg.rest.strip() or self.config.city
        data = await self.call_tool("weather.forecast", city=city)
        temp = data["celsius"]
        if self.config.units.upper() == "F":
            temp_text = f"{temp * 9 / 5 + 32:.0f}°F"
        else:
            temp_text = f"{temp}°C"
        text = f"{data['city']}: {data['sky']}, {temp_text}"
        if self.config.greeting:
            text = f"{self.config.greeting} {text}"
        await msg.reply(text)
