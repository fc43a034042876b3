from pydantic import BaseModel


class Cake(BaseModel):
    name: str
    price_cents: int


MENU = [Cake(name="lemon drizzle", price_cents=450), Cake(name="black forest", price_cents=520)]
