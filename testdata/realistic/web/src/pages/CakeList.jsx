import { Link } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { listCakes } from '../api.js';
import { formatPrice } from '../format.js';

export default function CakeList() {
  const { data, error, isPending } = useQuery({ queryKey: ['cakes'], queryFn: listCakes });
  if (isPending) return <p>Loading cakes…</p>;
  if (error) return <p className="error">Could not load cakes: {error.message}</p>;
  if (data.length === 0) return <p>No cakes yet.</p>;
  return (
    <ul className="cakes">
      {data.map((cake) => (
        <li key={cake.id}>
          <Link to={`/cakes/${cake.id}`}>{cake.name}</Link> · {cake.layers} layers ·{' '}
          {formatPrice(cake.price_cents)}
        </li>
      ))}
    </ul>
  );
}
