import './style.css';

const status = document.querySelector('#status');
const list = document.querySelector('#items');

// The static site may be served without the API behind it: a failed fetch
// only changes the status line, it never breaks the page.
async function showItems() {
  try {
    const response = await fetch('/api/items');
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    const items = await response.json();
    for (const item of items) {
      const li = document.createElement('li');
      li.textContent = `${item.name}: ${(item.price_cents / 100).toFixed(2)}`;
      list.append(li);
    }
    status.textContent = `${items.length} items`;
  } catch (error) {
    status.textContent = `API not reachable (${error.message})`;
  }
}

showItems();
