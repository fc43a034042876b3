// Base URL of the API, fixed at build time (layercake passes VITE_API_URL from a build arg).
const API_URL = import.meta.env.VITE_API_URL ?? '/api';

async function request(path, options) {
  const response = await fetch(`${API_URL}${path}`, {
    headers: { 'Content-Type': 'application/json' },
    ...options,
  });
  if (!response.ok) {
    throw new Error(`${options?.method ?? 'GET'} ${path}: HTTP ${response.status}`);
  }
  return response.json();
}

export const listCakes = () => request('/cakes');
export const getCake = (id) => request(`/cakes/${id}`);
export const createCake = (cake) =>
  request('/cakes', { method: 'POST', body: JSON.stringify(cake) });
export const getHealth = () => request('/health');
