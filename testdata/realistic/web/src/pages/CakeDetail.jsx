import { useParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { getCake } from '../api.js';
import { formatPrice } from '../format.js';

export default function CakeDetail() {
  const { id } = useParams();
  const { data, error, isPending } = useQuery({ queryKey: ['cake', id], queryFn: () => getCake(id) });
  if (isPending) return <p>Loading…</p>;
  if (error) return <p className="error">{error.message}</p>;
  return (
    <article>
      <h2>{data.name}</h2>
      <p>
        {data.layers} layers, {formatPrice(data.price_cents)}
      </p>
      <p>Added {new Date(data.created_at).toLocaleDateString()}</p>
    </article>
  );
}
