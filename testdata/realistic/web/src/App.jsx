import { Link, Route, Routes } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { getHealth } from './api.js';
import CakeList from './pages/CakeList.jsx';
import CakeDetail from './pages/CakeDetail.jsx';
import NewCake from './pages/NewCake.jsx';

function ApiStatus() {
  const { data, isError } = useQuery({ queryKey: ['health'], queryFn: getHealth });
  if (isError) return <span className="status down">API down</span>;
  if (!data) return <span className="status">checking…</span>;
  return <span className="status up">API {data.version}</span>;
}

export default function App() {
  return (
    <>
      <header>
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" /> Cake shop
        </Link>
        <nav>
          <Link to="/new">New cake</Link>
        </nav>
        <ApiStatus />
      </header>
      <main>
        <Routes>
          <Route path="/" element={<CakeList />} />
          <Route path="/cakes/:id" element={<CakeDetail />} />
          <Route path="/new" element={<NewCake />} />
          <Route path="*" element={<p>Page not found.</p>} />
        </Routes>
      </main>
    </>
  );
}
