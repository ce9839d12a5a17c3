"""Knowledge base: documents, embeddings, vector indexes and hybrid retrieval.

Importing this package is cheap: torch, LanceDB and the Pinecone SDK load on first use.
"""

from f1analyzer.knowledge.build import build_index, collect_documents, get_knowledge_base
from f1analyzer.knowledge.documents import Document, rule_documents
from f1analyzer.knowledge.embeddings import Embedder, MiniLMEmbedder, get_embedder
from f1analyzer.knowledge.index import Hit, LanceDBIndex, VectorIndex, get_vector_index
from f1analyzer.knowledge.query import ParsedQuery, parse_query
from f1analyzer.knowledge.retrieval import BuildReport, KnowledgeBase

__all__ = [
    "BuildReport", "Document", "Embedder", "Hit", "KnowledgeBase", "LanceDBIndex",
    "MiniLMEmbedder", "ParsedQuery", "VectorIndex", "build_index", "collect_documents",
    "get_embedder", "get_knowledge_base", "get_vector_index", "parse_query", "rule_documents",
]
