from cake_common import MENU


def main() -> None:
    print(f"{len(MENU)} cakes to bake")
