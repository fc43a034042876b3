import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createCake } from '../api.js';

export default function NewCake() {
  const [name, setName] = useState('');
  const [layers, setLayers] = useState(2);
  const [price, setPrice] = useState('12.50');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: createCake,
    onSuccess: (cake) => {
      queryClient.invalidateQueries({ queryKey: ['cakes'] });
      navigate(`/cakes/${cake.id}`);
    },
  });

  function submit(event) {
    event.preventDefault();
    mutation.mutate({ name, layers: Number(layers), price_cents: Math.round(Number(price) * 100) });
  }

  return (
    <form onSubmit={submit}>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Layers{' '}
        <input type="number" min="1" max="12" value={layers} onChange={(e) => setLayers(e.target.value)} />
      </label>
      <label>
        Price <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" />
      </label>
      <button type="submit" disabled={mutation.isPending}>
        Add cake
      </button>
      {mutation.isError && <p className="error">{mutation.error.message}</p>}
    </form>
  );
}
