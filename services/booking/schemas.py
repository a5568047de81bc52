"""Payload schemas of the booking service."""
from pydantic import BaseModel


class Slot(BaseModel):
    date: str
    booked: int
    booked_parking: int
